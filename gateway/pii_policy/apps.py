from django.apps import AppConfig


class PiiPolicyConfig(AppConfig):
    name = "gateway.pii_policy"
    # The label the app had at the top level: its migrations, tables and
    # content types are named after it, so none of them changes with the move.
    label = "pii_policy"
    verbose_name = "PII policy"

    def ready(self) -> None:
        from gateway.pii_policy.snapshot_parts import add_pii
        from tenants.snapshots import register_part

        register_part(add_pii)
