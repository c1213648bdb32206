"""The project's own hygiene: lint, Django's checks, migrations, translations."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_django_check_is_clean():
    call_command("check", "--fail-level", "WARNING")


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_every_chinese_string_is_translated():
    with (BASE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po").open("rb") as po_file:
        catalog = read_po(po_file)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert not untranslated, untranslated


@pytest.mark.django_db
def test_the_openapi_schema_is_valid_and_warning_free(tmp_path):
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(tmp_path / "s.yaml"))


def test_the_static_files_collect_with_the_production_storage(tmp_path, settings):
    """The manifest storage bin/start uses refuses a file that names another file it
    cannot find (a vendored script's source map, say); the tests otherwise use plain
    storage, so this runs collectstatic the production way."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
