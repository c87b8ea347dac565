"""Compute off the web process: a per-host pool of warm torch worker processes.

The web processes never import torch or run a learner's code. They send jobs (a demo run, a drill
submission) over a Unix socket to one *supervisor* process per host (``app.compute.server``), which
imports torch once, forks warm workers from itself, bounds every job (wall time, memory, queue) and
replaces workers that die or grow. ``app.compute.client`` is the web side; ``app.compute.worker``
runs jobs; ``app.compute.sandbox`` runs untrusted code in a fresh, locked-down child of a worker.
"""
