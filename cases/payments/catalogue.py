"""The paying banks the portal knows from the start (an admin adds others): their account
form and file layout. Loaded by a data migration and, in tests, after a transactional test
has emptied the table. Takes the model class, so the migration can pass its historical
model."""

from __future__ import annotations

BANKS = [
    # code, name, account lengths, Luhn check digit
    ("abc", "中国农业银行", [19], True),
    ("psbc", "中国邮政储蓄银行", [19], True),
    ("nxrcb", "宁夏黄河农村商业银行", [16, 18, 19], False),
]
COLUMNS = ["line", "reference", "name", "identity_number", "account", "amount", "month"]


def banks_load(bank_model) -> None:
    """Create the banks not there yet; an admin's later edits stay (idempotent)."""
    for code, name, lengths, luhn in BANKS:
        bank_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "account_lengths": lengths,
                "luhn": luhn,
                "file_columns": COLUMNS,
                "file_encoding": "gbk",
            },
        )
