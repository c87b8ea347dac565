# Transformer Quiz: one image for a study group's server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# CPU-only torch from PyTorch's CPU wheel index (the default PyPI wheel is the multi-GB CUDA build);
# the same variable as the Makefile's. Its dependencies come pinned with the rest, below.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --no-deps "torch==2.13.0" --index-url "$TORCH_INDEX_URL"

COPY pyproject.toml README.md alembic.ini requirements.lock ./
COPY app ./app
COPY migrations ./migrations
COPY questions ./questions
COPY templates ./templates
COPY static ./static
COPY drills ./drills
# Editable install: the app finds questions/, templates/, static/ and migrations/ beside app/.
RUN pip install -c requirements.lock -e ".[postgres]"
# Bytecode compiled once here: PYTHONDONTWRITEBYTECODE keeps the running app from writing it,
# so without this every start (and every worker) compiled the app first (~0.07 s).
RUN python -m compileall -q app migrations

RUN useradd --system --uid 10001 --home /app quiz && mkdir -p /data && chown quiz /data
USER quiz

# Accounts are always on in the image: it is for a group, not one person's laptop.
ENV TQ_DATA_DIR=/data TQ_HOST=0.0.0.0 TQ_PORT=8000 TQ_AUTH_ENABLED=true
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

# The same start command as `make run`.
CMD ["transformer-quiz", "serve"]
