"""Audit the Python packages installed in this environment for known vulnerabilities (checklist DEP-1).

Run it with the project's interpreter: ``make audit`` (``.venv/bin/python scripts/audit_dependencies.py``);
.ci/run does, after ``make test`` has installed the project with its test extra.

What is audited
    Every distribution installed in the environment of the interpreter running this script: the
    runtime dependencies, the test extra, pip and setuptools. The project itself (installed editable,
    not on PyPI) is left out. pip-audit asks PyPI's vulnerability data (``--vulnerability-service
    pypi``, which PyPI takes from the OSV database); osv.dev itself is not reachable from this
    project's machines, pypi.org is.

    On this project's machines PyPI answers ``/pypi/NAME/json`` but not the per-release
    ``/pypi/NAME/VERSION/json`` that pip-audit asks (404 for every release), so pip-audit skips every
    package as "not found on PyPI" and, left alone, would print "No known vulnerabilities found" and
    exit 0. Each package that pip-audit skipped is therefore checked here against ``/pypi/NAME/json``,
    whose ``vulnerabilities`` are those of the project's latest release: that says something only when
    the installed version is the latest, so an installed version older than the latest release is
    named under NOT AUDITED and does not count as clean.

Exit status and what CI does
    1  a known vulnerability affects an installed version (and its ID is not in IGNORED), or pip-audit
       failed for a reason other than the network: CI goes red. Upgrade the package (raise the pin in
       pyproject.toml) or, when no fixed release exists, add the ID to IGNORED with a reason.
    0  no known vulnerability among the packages audited; those that could not be audited are named.
    0  PyPI cannot be reached at all: the audit is SKIPPED, and a banner saying so is printed. A network
       outage alone does not make CI red; read the CI log for the banner.
"""

from __future__ import annotations

import argparse
import json
import subprocess  # nosec B404 # runs pip-audit with an argument list
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PYPI = "https://pypi.org/pypi"
TIMEOUT = 20  # seconds, per request

#: Vulnerability IDs (PYSEC-, GHSA- or CVE-) accepted for now, each with the reason, who and until when.
IGNORED: dict[str, str] = {}

NOT_ON_PYPI = "Dependency not found on PyPI"
PROJECT = "jakmentor"  # installed editable, not on PyPI: not audited and not listed


@dataclass(frozen=True)
class Finding:
    """One known vulnerability affecting one installed package."""

    package: str
    version: str
    vuln_id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]

    def ignored(self) -> bool:
        """True when the vulnerability or one of its aliases is in IGNORED."""
        return any(i in IGNORED for i in (self.vuln_id, *self.aliases))


@dataclass
class AuditResult:
    """What was audited, what was found and what could not be audited."""

    audited: dict[str, str]
    findings: list[Finding]
    not_audited: dict[str, str]  # package -> why


class ServiceUnreachable(Exception):
    """PyPI could not be reached: the audit is skipped, not failed."""


def installed_versions() -> dict[str, str]:
    """Canonical name -> version of every distribution in this interpreter's environment."""
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def parse_pip_audit(report: dict) -> AuditResult:
    """Split pip-audit's JSON report (``--format json``) into audited, findings and skipped packages."""
    result = AuditResult(audited={}, findings=[], not_audited={})
    for dep in report["dependencies"]:
        name = canonicalize_name(dep["name"])
        if name == PROJECT:
            continue
        if "skip_reason" in dep:
            result.not_audited[name] = dep["skip_reason"]
            continue
        result.audited[name] = dep["version"]
        for v in dep.get("vulns", []):
            result.findings.append(
                Finding(
                    name,
                    dep["version"],
                    v["id"],
                    tuple(v.get("aliases", [])),
                    tuple(v.get("fix_versions", [])),
                )
            )
    return result


def check_latest_release(name: str, installed: str, project: dict) -> list[Finding] | str:
    """Findings from ``/pypi/NAME/json`` when ``installed`` is its latest release, else why not audited."""
    latest = project["info"]["version"]
    try:
        same = Version(latest) == Version(installed)
    except InvalidVersion:
        same = latest == installed
    if not same:
        return f"installed {installed}, latest {latest}: PyPI's per-release data did not answer"
    return [
        Finding(name, installed, v["id"], tuple(v.get("aliases", [])), tuple(v.get("fixed_in", [])))
        for v in project.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]


def fetch_project(session: requests.Session, name: str) -> dict | None:
    """PyPI's JSON for a project's latest release; None when PyPI does not know the project."""
    response = session.get(f"{PYPI}/{name}/json", timeout=TIMEOUT)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def probe_pypi(session: requests.Session) -> None:
    """Raise ServiceUnreachable unless PyPI's JSON API answers."""
    try:
        session.get(f"{PYPI}/pip/json", timeout=TIMEOUT).raise_for_status()
    except requests.RequestException as exc:
        raise ServiceUnreachable(f"{PYPI} does not answer: {exc}") from exc


def run_pip_audit() -> dict:
    """Run pip-audit over this environment and return its JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pip-audit.json"
        cmd = [sys.executable, "-m", "pip_audit", "--vulnerability-service", "pypi", "--format", "json",
               "--output", str(out), "--progress-spinner", "off", "--skip-editable", "--timeout", str(TIMEOUT)]  # fmt: skip
        for vuln_id in IGNORED:
            cmd += ["--ignore-vuln", vuln_id]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)  # nosec B603 # our interpreter, fixed argv
        if out.exists() and out.stat().st_size:
            return json.loads(out.read_text(encoding="utf-8"))
        raise RuntimeError(f"pip-audit exited {proc.returncode} without a report:\n{proc.stderr[-3000:]}")


def audit(
    pip_audit: Callable[[], dict] = run_pip_audit,
    fetch: Callable[[str], dict | None] | None = None,
    installed: dict[str, str] | None = None,
) -> AuditResult:
    """pip-audit, then the latest-release check for each package pip-audit could not find on PyPI."""
    session = requests.Session()
    if fetch is None:
        probe_pypi(session)

        def fetch(name: str) -> dict | None:
            return fetch_project(session, name)

    try:
        report = pip_audit()
    except RuntimeError:
        probe_pypi(session)  # the network went away during the run: skipped
        report = pip_audit()  # a blip: once more; a second failure is pip-audit's and fails CI
    result = parse_pip_audit(report)
    installed = installed_versions() if installed is None else installed
    retry = {
        n: installed[n]
        for n, why in result.not_audited.items()
        if why.startswith(NOT_ON_PYPI) and n in installed
    }

    def check(name: str) -> tuple[str, list[Finding] | str]:
        try:
            project = fetch(name)
        except requests.RequestException as exc:
            return name, f"PyPI did not answer: {exc}"
        return name, "not on PyPI" if project is None else check_latest_release(name, retry[name], project)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, outcome in pool.map(check, sorted(retry)):
            if isinstance(outcome, str):
                result.not_audited[name] = outcome
            else:
                del result.not_audited[name]
                result.audited[name] = retry[name]
                result.findings.extend(outcome)
    if not result.audited:
        raise ServiceUnreachable(
            "no package could be audited: " + "; ".join(sorted(set(result.not_audited.values()))[:3])
        )
    return result


def report(result: AuditResult) -> int:
    """Print the outcome; 1 when a vulnerability that is not ignored affects an installed package."""
    failing = [f for f in result.findings if not f.ignored()]
    for f in sorted(result.findings, key=lambda f: (f.package, f.vuln_id)):
        mark = (
            "ignored: " + next(IGNORED[i] for i in (f.vuln_id, *f.aliases) if i in IGNORED)
            if f.ignored()
            else "VULNERABLE"
        )
        fixed = ", ".join(f.fixed_in) or "no fixed release"
        print(
            f"{mark}: {f.package} {f.version} {f.vuln_id} ({', '.join(f.aliases) or 'no alias'}); fixed in {fixed}"
        )
    if result.not_audited:
        print(f"NOT AUDITED ({len(result.not_audited)}):")
        for name, why in sorted(result.not_audited.items()):
            print(f"  {name}: {why}")
    print(
        f"dependency audit: {len(result.audited)} packages audited, {len(failing)} known vulnerabilities, "
        f"{len(result.findings) - len(failing)} ignored, {len(result.not_audited)} not audited"
    )
    return 1 if failing else 0


def main(argv: list[str] | None = None) -> int:
    """Audit this environment; see the module docstring for the exit status."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        result = audit()
    except ServiceUnreachable as exc:
        print("=" * 78)
        print("DEPENDENCY AUDIT SKIPPED: the vulnerability service could not be reached.")
        print(f"  {exc}")
        print("  No package was checked; CI stays green only because of the network. Run `make audit` again.")
        print("=" * 78)
        return 0
    return report(result)


if __name__ == "__main__":
    sys.exit(main())
