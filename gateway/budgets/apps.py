from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "gateway.budgets"
    # The label the app had at the top level: its migrations, tables and
    # content types are named after it, so none of them changes with the move.
    label = "budgets"
