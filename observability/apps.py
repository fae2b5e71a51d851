from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gateway.budgets.signals import settlements_pending
        from observability.drain import write_pending_settlements
        from observability.snapshot_parts import add_observability
        from tenants.snapshots import register_part

        settlements_pending.connect(write_pending_settlements, dispatch_uid="drain.settlements")
        register_part(add_observability)
        # Connects the worker's task metrics to Celery's signals (inert outside a worker).
        import observability.worker_metrics  # noqa: F401
