"""The dependency audit fails on a known vulnerability and passes, saying so, when it cannot ask PyPI."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def audit_module():
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", ROOT / "scripts" / "audit_dependencies.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


VULN = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fix_versions": ["2.0.1"], "description": "x"}


def _skipped(name: str, version: str) -> dict:
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} ({version})",
    }


def _project(latest: str, vulns: list[dict]) -> dict:
    return {"info": {"version": latest}, "vulnerabilities": vulns}


def _run(audit_module, capsys, pip_audit_report, projects, installed):
    result = audit_module.audit(pip_audit=lambda: pip_audit_report, fetch=projects.get, installed=installed)
    code = audit_module.report(result)
    return code, capsys.readouterr().out


def test_a_vulnerability_reported_by_pip_audit_fails(audit_module, capsys):
    report = {"dependencies": [{"name": "Flask", "version": "2.0.0", "vulns": [VULN]}]}
    code, out = _run(audit_module, capsys, report, {}, {"flask": "2.0.0"})
    assert code == 1
    assert "VULNERABLE: flask 2.0.0 PYSEC-2099-1 (CVE-2099-0001); fixed in 2.0.1" in out


def test_an_ignored_vulnerability_passes_and_is_shown_with_its_reason(audit_module, capsys, monkeypatch):
    monkeypatch.setitem(
        audit_module.IGNORED, "CVE-2099-0001", "no fixed release; not reachable from our code"
    )
    report = {"dependencies": [{"name": "flask", "version": "2.0.0", "vulns": [VULN]}]}
    code, out = _run(audit_module, capsys, report, {}, {"flask": "2.0.0"})
    assert code == 0
    assert "ignored: no fixed release; not reachable from our code: flask 2.0.0 PYSEC-2099-1" in out


def test_when_pypi_skips_every_release_the_latest_release_data_still_fails_a_vulnerable_package(
    audit_module, capsys
):
    report = {"dependencies": [_skipped("flask", "3.1.3"), _skipped("jinja2", "3.1.6")]}
    projects = {
        "flask": _project("3.1.3", [{"id": "GHSA-xxxx", "aliases": [], "fixed_in": []}]),
        "jinja2": _project(
            "3.1.6", [{"id": "GHSA-gone", "aliases": [], "fixed_in": [], "withdrawn": "2026-01-01"}]
        ),
    }
    code, out = _run(audit_module, capsys, report, projects, {"flask": "3.1.3", "jinja2": "3.1.6"})
    assert code == 1
    assert "VULNERABLE: flask 3.1.3 GHSA-xxxx (no alias); fixed in no fixed release" in out
    assert "GHSA-gone" not in out
    assert "2 packages audited, 1 known vulnerabilities" in out


def test_an_installed_version_older_than_the_latest_release_is_named_not_audited(audit_module, capsys):
    report = {"dependencies": [_skipped("numpy", "2.4.6"), _skipped("flask", "3.1.3")]}
    projects = {"numpy": _project("2.5.5", []), "flask": _project("3.1.3", [])}
    code, out = _run(audit_module, capsys, report, projects, {"numpy": "2.4.6", "flask": "3.1.3"})
    assert code == 0
    assert "numpy: installed 2.4.6, latest 2.5.5" in out
    assert "1 packages audited, 0 known vulnerabilities, 0 ignored, 1 not audited" in out


def test_nothing_audited_is_a_skip_not_a_pass(audit_module):
    report = {"dependencies": [_skipped("flask", "3.1.3")]}

    def unreachable(name):
        raise audit_module.requests.ConnectionError("no route")

    with pytest.raises(audit_module.ServiceUnreachable):
        audit_module.audit(pip_audit=lambda: report, fetch=unreachable, installed={"flask": "3.1.3"})


def test_an_unreachable_service_passes_with_a_skipped_banner(audit_module, capsys, monkeypatch):
    def audit():
        raise audit_module.ServiceUnreachable("https://pypi.org/pypi does not answer")

    monkeypatch.setattr(audit_module, "audit", audit)
    assert audit_module.main([]) == 0
    assert "DEPENDENCY AUDIT SKIPPED" in capsys.readouterr().out
