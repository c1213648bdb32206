from django.core.management.base import BaseCommand

from aid_portal.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo county, its staff and their roles (safe to run again)."

    def handle(self, *args, **options):
        users = load_demo()
        self.stdout.write(f"demo loaded: {len(users)} users, password {DEMO_PASSWORD}")
