# Load Celery with Django so @shared_task binds to this app and `delay_on_commit` works.
from config.celery import app as celery_app

__all__ = ("celery_app",)
