"""`codeact doctor`: real versions, the real bubblewrap, the real self-test."""

import json

from typer.testing import CliRunner

from codeact.cli import app
from codeact.cli.doctor import gather, package_versions


def test_package_versions_names_installed_and_missing():
    versions = package_versions(("ipykernel", "no-such-distribution-xyz"))
    assert versions["ipykernel"] and versions["ipykernel"][0].isdigit()
    assert versions["no-such-distribution-xyz"] is None


def test_gather_without_selftest():
    report = gather(run_selftest=False)
    assert report.bwrap_ok, report.bwrap_message
    assert report.bubblewrap and "bubblewrap" in report.bubblewrap
    assert report.packages["jupyter_client"] and report.libzmq
    assert report.namespaces["kernel"]
    assert report.selftest == {"skipped": "--no-selftest"}
    assert report.cgroups["mode"] in ("v1", "v2", "systemd", "off")
    assert report.cgroups["mode"] in report.cgroups["detail"] or report.cgroups["mode"] == \
        "systemd"


def test_doctor_json_runs_the_selftest():
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["selftest"]["total"] >= 13
    assert data["selftest"]["blocked"] == data["selftest"]["total"], data["selftest"]
    assert data["packages"]["ipykernel"]


def test_doctor_table():
    result = CliRunner().invoke(app, ["doctor", "--no-selftest"])
    assert result.exit_code == 0, result.output
    assert "bubblewrap" in result.output and "ipykernel" in result.output
    assert "skipped" in result.output
    assert "session cgroups" in result.output
