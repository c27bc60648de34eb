"""`core.jobs.wire`: what both sides of the Celery queue share."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

# A fresh interpreter, so `celery` is imported for the first time by many threads at once: what
# happened when ten sessions pressed Start together on a server that had not sent a run yet.
FIRST_USE_FROM_THREADS = """
import threading
from core.jobs.wire import make_celery

barrier = threading.Barrier(64)
errors = []

def first_send(n):
    barrier.wait()
    try:
        make_celery(f"redis://127.0.0.1:1/{n % 4}")
    except Exception as error:  # the failure under test is an ImportError raised in a thread
        errors.append(repr(error))

threads = [threading.Thread(target=first_send, args=(n,)) for n in range(64)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors[:1])
raise SystemExit(1 if errors else 0)
"""


def test_the_celery_app_can_be_made_by_many_sessions_at_once():
    # Celery's package swaps itself for a lazy module while it is imported, and a second thread that
    # imports it meanwhile got "cannot import name 'Celery'" (about half the time with 64 threads):
    # several tries make a regression show.
    for _ in range(6):
        done = subprocess.run([sys.executable, "-c", FIRST_USE_FROM_THREADS], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
