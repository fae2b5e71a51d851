from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "gateway.budgets"
    # The label the app had at the top level: its migrations, tables and
    # content types are named after it, so none of them changes with the move.
    label = "budgets"

    def ready(self) -> None:
        from gateway.budgets.actions import delete_budgets_of_key
        from gateway.budgets.snapshot_parts import add_budgets
        from tenants.signals import api_key_revoked
        from tenants.snapshots import register_part

        register_part(add_budgets)
        api_key_revoked.connect(delete_budgets_of_key, dispatch_uid="budgets.key_revoked")
