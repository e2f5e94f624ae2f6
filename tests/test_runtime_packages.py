"""Package installs through the host: ``%pip install`` in a real sandbox, the policy and
its one-line refusals, the overlay's lifetime, and the sandbox staying offline."""

import pytest

from codeact.runtime import SandboxConfig, Session, selftest
from codeact.runtime.packages import (
    InstallRefused,
    PackagePolicy,
    parse_pip_args,
    remove_overlay,
)

SMALL = "six"  # a small pure wheel in none of the environments


@pytest.fixture(scope="module")
def session():
    policy = PackagePolicy(deny=("requests", "urllib3"), max_mb=50)
    with Session(SandboxConfig(packages=policy)) as s:
        yield s


def test_pip_install_goes_through_the_host_and_imports(session):
    assert session.execute(f"import {SMALL}").error.name == "ModuleNotFoundError"
    obs = session.execute(f"%pip install {SMALL}", timeout=300)
    assert obs.ok, obs
    assert obs.stdout.startswith(f"installing {SMALL} ... done: {SMALL} "), obs.stdout
    obs = session.execute(f"import {SMALL}, sys\nprint({SMALL}.__file__)")
    assert obs.ok and "/opt/codeact/site-packages/" in obs.stdout, obs
    again = session.execute(f"!pip install {SMALL}", timeout=300)
    assert again.stdout.strip() == f"installing {SMALL} ... done: already installed"
    # the overlay is read-only to model code
    write = session.execute("open('/opt/codeact/site-packages/x.py', 'w')")
    assert write.error is not None and write.error.name == "OSError"


def test_refusals_are_one_line(session):
    denied = session.execute("!pip install requests").stdout
    assert denied == "installing requests ... failed: blocked by policy: requests is on the " \
                     "deny list\n"
    missing = session.execute("%pip install codeact-no-such-package-zzq", timeout=300).stdout
    assert missing == ("installing codeact-no-such-package-zzq ... failed: no package named "
                       "'codeact-no-such-package-zzq' on the package index\n")
    sdist_only = session.execute("%pip install pyspark", timeout=300).stdout
    assert sdist_only.startswith("installing pyspark ... failed: no wheel for this platform"), \
        sdist_only
    other = session.execute("%pip list")
    assert "only `pip install NAME...` works" in other.stderr
    url = session.execute("%pip install https://example.com/x.whl").stdout
    assert "only package names" in url


def test_network_stays_closed_after_installs(session):
    session.execute(f"%pip install {SMALL}", timeout=300)
    attack = next(a for a in selftest.ATTACKS if a.name == "open a TCP connection")
    with selftest.host_bait() as host:
        result = selftest.run_attack(session, attack, host)
    assert result.blocked, result.detail


def test_deny_mode_and_ask_without_anyone():
    with Session(SandboxConfig(packages="deny")) as s:
        assert s.execute(f"%pip install {SMALL}").stdout == \
            f"installing {SMALL} ... failed: package installs are disabled\n"
    with Session(SandboxConfig(packages="ask")) as s:
        out = s.execute(f"%pip install {SMALL}", timeout=300).stdout
        assert "blocked by policy: installs need approval" in out and "no one to ask" in out


def test_ask_callback_and_size_cap(tmp_path):
    asked: list[str] = []
    policy = PackagePolicy(mode="ask", ask=lambda q: asked.append(q) or False)
    with Session(SandboxConfig(packages=policy)) as s:
        out = s.execute(f"%pip install {SMALL}", timeout=300).stdout
        assert "the user declined six" in out and asked and SMALL in asked[0]
    with Session(SandboxConfig(packages=PackagePolicy(max_mb=0))) as s:
        out = s.execute(f"%pip install {SMALL}", timeout=300).stdout
        assert "size cap of 0 MB" in out, out


def test_overlay_dies_with_the_session_unless_persisted(tmp_path):
    s = Session()
    overlay = s.installer.prefix
    assert overlay.is_dir()
    s.close()
    assert not overlay.exists()
    ws = tmp_path / "ws"
    keep = SandboxConfig(packages=PackagePolicy(persist=True))
    with Session(keep, workspace=ws) as s:
        kept = s.installer.prefix
        try:
            assert s.execute(f"%pip install {SMALL}", timeout=300).ok
            # never inside the workspace, where model code could plant symlinks for the
            # host's pip to write through
            assert ws not in kept.parents and not (ws / ".codeact").exists()
            with Session(keep, workspace=ws) as s2:  # a new session on the workspace
                assert s2.installer.prefix == kept
                assert s2.execute(f"import {SMALL}").ok
                again = s2.execute(f"%pip install {SMALL}", timeout=300).stdout
                assert again.endswith("done: already installed\n"), again
        finally:
            remove_overlay(kept)


def test_unsandboxed_session_uses_the_host_overlay_path(tmp_path):
    with Session("none") as s:
        assert s.execute(f"%pip install {SMALL}", timeout=300).ok
        obs = s.execute(f"import {SMALL}; print({SMALL}.__file__)")
        assert obs.stdout.startswith(str(s.installer.site_dir)), obs


@pytest.mark.parametrize("args, reason", [
    (["list"], "only `pip install NAME...`"),
    (["install"], "no package named"),
    (["install", "-r", "req.txt"], "pip option -r is not supported"),
    (["install", "./pkg"], "only package names"),
    (["install", "git+https://x/y"], "only package names"),
    (["install", "numpy\n"], "only package names"),  # a regex's $ would take it
])
def test_parse_refuses_what_is_not_a_package_name(args, reason):
    with pytest.raises(InstallRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_pip_args(args)


def test_parse_keeps_specs_and_skips_harmless_flags():
    assert parse_pip_args(["install", "-q", "-U", "pandas>=2,<3", "rich[jupyter]"]) == \
        ["pandas>=2,<3", "rich[jupyter]"]


def test_policy_lists_are_canonical():
    p = PackagePolicy(allow=("Scikit_Learn",), deny=("PyYAML",))
    p.check_requested(["scikit-learn"])
    with pytest.raises(InstallRefused, match="not on the allow list"):
        p.check_requested(["six"])
    with pytest.raises(InstallRefused, match="a dependency"):
        p.check_resolved([("scikit-learn", "1"), ("pyyaml", "6")])
    with pytest.raises(ValueError, match="unknown package policy"):
        PackagePolicy(mode="maybe")


def test_pip_on_a_gateway_kernel_installs_through_the_host(gateway):
    """A remote kernel: the host installs (policy and cap as ever) and ships the overlay
    over the comm bridge; the kernel unpacks it onto sys.path."""
    from gateway_helpers import remote_config

    pkg = "toolz"  # pure, in neither the kernel environment nor codeact's own
    policy = PackagePolicy(deny=("requests",), max_mb=50)
    with Session(remote_config(gateway, packages=policy)) as s:
        assert s.execute(f"import {pkg}").error.name == "ModuleNotFoundError"
        obs = s.execute(f"%pip install {pkg}", timeout=300)
        assert obs.ok and obs.stdout.startswith(f"installing {pkg} ... done: {pkg} "), obs
        obs = s.execute(f"import {pkg}\nprint({pkg}.__file__)")
        assert obs.ok and "/codeact-site-" in obs.stdout, obs
        denied = s.execute("!pip install requests").stdout
        assert denied.startswith("installing requests ... failed: blocked by policy")
