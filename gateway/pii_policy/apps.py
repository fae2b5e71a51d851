from django.apps import AppConfig


class PiiPolicyConfig(AppConfig):
    name = "pii_policy"
    verbose_name = "PII policy"
