"""Identity numbers and other sensitive fields are encrypted at rest."""

import pytest
from django.db import connection

from aid_portal import crypto
from cases.models import Person
from tests.cases.conftest import identity

pytestmark = pytest.mark.django_db


def test_the_database_holds_no_plain_identity_number():
    number = identity("642222", "19800101", 11)
    person = Person.objects.create(
        identity_number=number,
        identity_hash=crypto.blind_index(number),
        name="马某",
        birth_date="1980-01-01",
        sex="M",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_number FROM cases_person WHERE id = %s", [person.pk])
        stored = cursor.fetchone()[0]
    assert number not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Person.objects.get(pk=person.pk).identity_number == number
    assert Person.objects.get(identity_hash=crypto.blind_index(number)) == person


def test_rotation_old_key_still_decrypts(settings):
    from cryptography.fernet import Fernet

    token = crypto.encrypt("6422221980")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    crypto._fernet.cache_clear()
    try:
        assert crypto.decrypt(token) == "6422221980"
    finally:
        crypto._fernet.cache_clear()


def test_blind_index_is_keyed(settings):
    first = crypto.blind_index("640422200001010011")
    settings.FIELD_HASH_KEY = "another-key"
    assert crypto.blind_index("640422200001010011") != first
