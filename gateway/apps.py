from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"

    def ready(self) -> None:
        from gateway.snapshot_parts import add_routes_and_keys
        from tenants.snapshots import register_part

        register_part(add_routes_and_keys)
