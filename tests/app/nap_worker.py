"""The app's Celery worker plus a task that naps, on a broker of the shutdown test's own (NAP_BROKER_URL)."""
import os
import time
from pathlib import Path

from app.worker import celery_app

celery_app.conf.broker_url = os.environ["NAP_BROKER_URL"]


@celery_app.task(name="nap")
def nap(seconds: float, marker: str) -> None:
    """Touch `marker` (the test waits for it), then sleep: a long task the shutdown must not wait for."""
    Path(marker).touch()
    time.sleep(seconds)
