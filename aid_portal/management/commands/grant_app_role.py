from django.core.management.base import BaseCommand

from aid_portal.dbroles import app_role_grant


class Command(BaseCommand):
    help = (
        "As the schema's owner, after every migrate: grant the application's database role "
        "what the portal needs and no more (aid_portal/dbroles.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the application's role, e.g. aid_app")

    def handle(self, *args, role: str, **options):
        app_role_grant(role)
        self.stdout.write(f"granted {role} what the portal needs")
