"""The yardstick: a bare FastAPI app with one GET and one POST, served like ours."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    question_id: str
    rating: int


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/bare")
def bare() -> dict:
    return {"ok": True}


@app.post("/bare", status_code=201)
def bare_post(body: Body) -> Body:
    return body
