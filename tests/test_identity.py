import datetime

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric

from aid_portal.identity import identity_facts, mask_identity_number, validate_identity_number


def with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


VALID_MAN = with_check("64222219850312001")  # 西吉 (old code), 1985-03-12, sequence 001: male
VALID_WOMAN = with_check("64042220100701002")  # 西吉 (new code), 2010-07-01, 002: female


def test_valid_numbers_give_birth_date_and_sex():
    man = identity_facts(VALID_MAN)
    assert (man.birth_date, man.sex, man.area_code) == (datetime.date(1985, 3, 12), "M", "642222")
    woman = identity_facts(VALID_WOMAN.lower())
    assert (woman.birth_date, woman.sex) == (datetime.date(2010, 7, 1), "F")


def test_the_published_example_is_valid():
    assert validate_identity_number("360426199101010071") == "360426199101010071"


def test_an_old_area_code_for_a_later_birth_is_still_accepted():
    # 642222 was renumbered 640422 in 2001; people keep their numbers.
    assert validate_identity_number(with_check("64222220050101001"))


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("64222219850312001", "18"),
        ("6422221985031200AX", "digits"),
        (VALID_MAN[:-1] + ("0" if VALID_MAN[-1] != "0" else "1"), "last character"),
        (with_check("64222219850230001"), "birth date"),
        (with_check("99999919850312001"), "area code"),
        (with_check("64222230000101001"), "future"),
    ],
    ids=["short", "letters", "check character", "30 February", "unknown area", "future"],
)
def test_bad_numbers_are_refused_with_a_clear_message(number, message):
    with pytest.raises(ValidationError) as caught:
        validate_identity_number(number)
    # English msgids; the Chinese wording is checked through the translation catalogue.
    from django.utils import translation

    with translation.override("en"):
        assert message in str(caught.value.messages[0])


def test_the_message_is_chinese_by_default():
    with pytest.raises(ValidationError) as caught:
        validate_identity_number("123")
    assert "18" in caught.value.messages[0] and "位" in caught.value.messages[0]


def test_masking_keeps_area_code_and_last_four():
    assert mask_identity_number(VALID_MAN) == VALID_MAN[:6] + "********" + VALID_MAN[-4:]
    assert mask_identity_number("") == ""


def test_form_and_serializer_fields_share_the_rule():
    from django import forms
    from rest_framework import serializers

    from aid_portal.identity import IdentityNumberFormField, IdentityNumberSerializerField

    class PersonForm(forms.Form):
        identity_number = IdentityNumberFormField()

    class PersonSerializer(serializers.Serializer):
        identity_number = IdentityNumberSerializerField()

    good = PersonForm({"identity_number": VALID_WOMAN.lower()})
    assert good.is_valid() and good.cleaned_data["identity_number"] == VALID_WOMAN
    bad_form = PersonForm({"identity_number": "123"})
    assert not bad_form.is_valid()
    bad_api = PersonSerializer(data={"identity_number": "123"})
    assert not bad_api.is_valid()
    assert bad_api.errors["identity_number"] == bad_form.errors["identity_number"]
