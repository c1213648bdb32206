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


# --- the tree read from the digits ----------------------------------------------------

COUNTY, TOWNSHIP, VILLAGE = "640422000000", "640422100000", "640422100201"


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("640000000000", Region.Level.PROVINCE),
        ("640400000000", Region.Level.CITY),
        (COUNTY, Region.Level.COUNTY),
        (TOWNSHIP, Region.Level.TOWNSHIP),
        (VILLAGE, Region.Level.VILLAGE),
        # Zeros inside a level's digits do not end the code early.
        ("640422100001", Region.Level.VILLAGE),
        ("640422001000", Region.Level.TOWNSHIP),
    ],
)
def test_level_of_code(code, level):
    assert Region.level_of_code(code) == level


@pytest.mark.parametrize(
    ("level", "prefix", "code"),
    [
        (Region.Level.PROVINCE, "64", "640000000000"),
        (Region.Level.CITY, "6404", "640400000000"),
        (Region.Level.COUNTY, "640422", COUNTY),
        (Region.Level.TOWNSHIP, "640422100", TOWNSHIP),
        (Region.Level.VILLAGE, VILLAGE, VILLAGE),
    ],
)
def test_prefix_and_code_of_the_node_holding_a_village_at_each_level(level, prefix, code):
    assert Region.code_prefix(VILLAGE, level) == prefix
    assert Region.code_from_prefix(prefix) == code
    assert Region.enclosing_code(VILLAGE, level) == code


def test_a_code_is_its_own_enclosing_code_at_its_level_and_below():
    assert Region.enclosing_code(COUNTY, Region.Level.COUNTY) == COUNTY
    assert Region.enclosing_code(COUNTY, Region.Level.VILLAGE) == COUNTY
    assert Region.enclosing_code(COUNTY, Region.Level.CITY) == "640400000000"


def test_enclosing_codes_of_a_code_and_of_a_prefix():
    chain = ["640000000000", "640400000000", COUNTY, TOWNSHIP]
    assert Region.enclosing_codes(VILLAGE) == [*chain, VILLAGE]
    assert Region.enclosing_codes(TOWNSHIP) == chain
    assert Region.enclosing_codes(COUNTY) == chain[:3]
    assert Region.enclosing_codes(VILLAGE, down_to=Region.Level.COUNTY) == chain[:3]
    # A jurisdiction prefix holds only the levels its digits reach.
    assert Region.enclosing_codes("6404") == chain[:2]
    assert Region.enclosing_codes("640422100", down_to=Region.Level.COUNTY) == chain[:3]


@pytest.fixture
def tree():
    services.region_tree_load(csv_text=REGIONS_CSV.read_text("utf-8"), actor=None)
    return {r.code: r for r in Region.objects.filter(code__in=[COUNTY, TOWNSHIP, VILLAGE])}


def test_county_and_township_codes_of_the_demo_tree_cost_no_query(tree, django_assert_num_queries):
    county, township, village = tree[COUNTY], tree[TOWNSHIP], tree[VILLAGE]
    with django_assert_num_queries(0):
        assert (village.county_prefix, village.county_code) == ("640422", COUNTY)
        assert (village.township_prefix, village.township_code) == ("640422100", TOWNSHIP)
        assert (township.county_prefix, township.county_code) == ("640422", COUNTY)
        assert (township.township_prefix, township.township_code) == ("640422100", TOWNSHIP)
        assert (county.county_prefix, county.county_code) == ("640422", COUNTY)
        assert (county.prefix, township.prefix, village.prefix) == (
            "640422",
            "640422100",
            VILLAGE,
        )


def test_county_and_township_nodes_of_the_demo_tree(tree, django_assert_num_queries):
    county, township, village = tree[COUNTY], tree[TOWNSHIP], tree[VILLAGE]
    with django_assert_num_queries(0):
        assert county.county() is county
        assert township.township() is township
    with django_assert_num_queries(1):
        assert village.county() == county
    with django_assert_num_queries(1):
        assert village.township() == township
    with django_assert_num_queries(1):
        assert township.county() == county
    assert village.township().name == "吉强镇"
    assert village.county().name == "西吉县"
