"""Background training jobs: the job folder, the worker process."""
