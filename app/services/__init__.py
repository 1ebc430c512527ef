"""Domain operations shared by pages, the JSON API, the CLI and Celery tasks; one module per verb set."""
