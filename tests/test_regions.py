import pytest
from django.core.management import CommandError, call_command

from aid_portal import services
from aid_portal.demo import REGIONS_CSV
from aid_portal.models import AuditEvent, Region

pytestmark = pytest.mark.django_db


def test_demo_tree_loads_with_levels_and_parents():
    result = services.region_tree_load(csv_text=REGIONS_CSV.read_text("utf-8"), actor=None)
    assert result.created == 15
    village = Region.objects.get(code="640422100201")
    assert village.level == Region.Level.VILLAGE
    assert village.parent.name == "吉强镇"
    assert village.parent.parent.level == Region.Level.COUNTY
    assert Region.objects.filter(level=Region.Level.TOWNSHIP).count() == 3
    assert Region.objects.filter(level=Region.Level.VILLAGE).count() == 9
    assert AuditEvent.objects.filter(action="region.load").count() == 1


def test_loading_twice_changes_nothing():
    text = REGIONS_CSV.read_text("utf-8")
    services.region_tree_load(csv_text=text, actor=None)
    again = services.region_tree_load(csv_text=text, actor=None)
    assert (again.created, again.updated) == (0, 0)
    assert Region.objects.count() == 15


def test_a_child_may_come_before_its_parent():
    text = (
        "code,name,parent_code\n640422100201,龙王坝村,640422100000\n"
        "640422100000,吉强镇,640422000000\n640422000000,西吉县,640400000000\n"
        "640400000000,固原市,640000000000\n640000000000,宁夏,\n"
    )
    assert services.region_tree_load(csv_text=text, actor=None).created == 5


@pytest.mark.parametrize(
    ("body", "line_error"),
    [
        (
            "640000000000,宁夏,\n640000000000,宁夏again,\n",
            "Line 3: the code 640000000000 already appears on line 2",
        ),
        (
            "640000000000,宁夏,\n640400000000,固原市,650000000000\n",
            "Line 3: the parent code 650000000000 is unknown",
        ),
        (
            "640000000000,宁夏,\n64040000,固原市,640000000000\n",
            "Line 3: the code '64040000' is not 12 digits",
        ),
        ("640000000000,宁夏,\n640400000000,,640000000000\n", "Line 3: the name is empty"),
        ("640000000000,宁夏,\n640400000000,固原市,\n", "Line 3: the parent code is missing"),
        (
            "640000000000,宁夏,\n650400000000,乌市,640000000000\n",
            "Line 3: 650400000000 cannot lie under",
        ),
    ],
    ids=["duplicate", "unknown parent", "short code", "no name", "no parent", "wrong parent"],
)
def test_bad_file_names_the_line_and_saves_nothing(body, line_error):
    from django.utils import translation

    with translation.override("en"), pytest.raises(services.RegionImportError) as caught:
        services.region_tree_load(csv_text="code,name,parent_code\n" + body, actor=None)
    assert any(line_error in error for error in caught.value.errors), caught.value.errors
    assert Region.objects.count() == 0
    assert not AuditEvent.objects.filter(action="region.load").exists()


def test_missing_columns_are_named():
    with pytest.raises(services.RegionImportError) as caught:
        services.region_tree_load(csv_text="code,name\n640000000000,宁夏\n", actor=None)
    assert "parent_code" in caught.value.message


def test_command_reports_errors_and_exits_nonzero(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent_code\n640000000000,宁夏,\n640000000000,宁夏,\n", "utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("load_regions", str(bad))
    assert "3" in str(caught.value)
    assert Region.objects.count() == 0


def test_command_loads_a_good_file(capsys):
    call_command("load_regions", str(REGIONS_CSV))
    assert "15 created" in capsys.readouterr().out
