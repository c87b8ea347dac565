"""Study science (issue #15): a member's own FSRS weights, desired retention, an interview date
with readiness and a plan, cram without touching the schedule, and control over the session.

prefs.py (stored settings, per-user Srs), fitting.py (fitting and workload on the compute pool),
planner.py (readiness and the day-by-day plan), cram.py (cram filters and answers),
cards.py (the card view and leeches), web.py (pages and the JSON API).
"""
