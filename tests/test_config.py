"""Loading the config: file location, precedence with sources, tables, errors and `config show`."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from clustertop.config.schema import SETTINGS
from clustertop.config.settings import (
    Config,
    ConfigError,
    HostOverride,
    config_file_path,
    default_audit_log,
    load_config,
    render_config,
)
from clustertop.model.owners import owner_of


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose home and XDG folders are under tmp_path: never the developer's."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
    }


def write_config(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "clustertop" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load_error(env: dict[str, str], cli: dict[str, object] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(cli or {}, env)
    return str(caught.value)


def test_every_setting_is_a_config_field_in_the_same_order() -> None:
    names = [item.name for item in dataclasses.fields(Config)]
    assert names[: len(SETTINGS)] == list(SETTINGS)


def test_no_file_gives_defaults_with_xdg_paths(env: dict[str, str], tmp_path: Path) -> None:
    config = load_config({}, env)
    assert config.path is None
    assert config.default_path == tmp_path / "xdg-config" / "clustertop" / "config.toml"
    assert config.audit_log == tmp_path / "xdg-state" / "clustertop" / "audit.jsonl"
    assert config.history_path == tmp_path / "xdg-state" / "clustertop" / "history.sqlite"
    assert dict(config.sources) == dict.fromkeys(SETTINGS, "default")
    assert (config.interval, config.timeout, config.max_handshakes) == (2.0, 10.0, 16)
    assert (config.stale_after, config.cleanup_exited_after, config.history) == (
        1800.0,
        604800.0,
        3600.0,
    )
    assert config.alert_log_size == 2**30
    assert config.owner_labels == ("owner",)
    assert config.known_hosts is None and config.ssh_config is None
    assert config.readonly is False and config.accept_new_hostkeys is False
    assert dataclasses.replace(config, audit_log=None, history_path=None) == dataclasses.replace(
        Config(), sources=config.sources, default_path=config.default_path
    )


def test_xdg_fallbacks_use_home(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert config_file_path(home) == tmp_path / ".config" / "clustertop" / "config.toml"
    assert default_audit_log(home) == tmp_path / ".local/state/clustertop/audit.jsonl"
    relative = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative/dir"}
    assert config_file_path(relative) == tmp_path / ".config" / "clustertop" / "config.toml"


def test_each_level_beats_the_next(env: dict[str, str], tmp_path: Path) -> None:
    path = write_config(env, 'interval = 3\ntimeout = "20s"\nhistory = "2h"\n')
    env |= {"CLUSTERTOP_TIMEOUT": "30", "CLUSTERTOP_HISTORY": "3h", "CLUSTERTOP_READONLY": "1"}
    config = load_config({"history": "4h", "connect_timeout": None}, env)
    assert (config.interval, config.timeout, config.history) == (3.0, 30.0, 4 * 3600.0)
    assert config.readonly is True
    assert config.path == path
    assert config.sources["interval"] == f"file {path}"
    assert config.sources["timeout"] == "env CLUSTERTOP_TIMEOUT"
    assert config.sources["history"] == "command line --history"
    assert config.sources["readonly"] == "env CLUSTERTOP_READONLY"
    assert config.sources["connect_timeout"] == "default"


def test_typed_command_line_values(env: dict[str, str]) -> None:
    config = load_config(
        {"stale_after": 60.0, "readonly": True, "owner_labels": ["team", "user"]}, env
    )
    assert config.stale_after == 60.0
    assert config.owner_labels == ("team", "user")
    assert config.sources["stale_after"] == "command line --stale-after"


def test_explicit_file_beats_env_file_beats_default(env: dict[str, str], tmp_path: Path) -> None:
    write_config(env, "interval = 1\n")
    from_env = tmp_path / "env.toml"
    from_env.write_text("interval = 2\n")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("interval = 3\n")
    env["CLUSTERTOP_CONFIG"] = str(from_env)
    assert load_config({}, env).interval == 2.0
    config = load_config({}, env, path=explicit)
    assert (config.interval, config.path) == (3.0, explicit)
    assert config.sources["interval"] == f"file {explicit}"


def test_missing_files(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config({}, env, path=missing)
    assert str(caught.value) == f"{missing}: config file not found (named by --config)"
    env["CLUSTERTOP_CONFIG"] = str(missing)
    assert load_error(env) == (
        f"{missing}: config file not found (named by environment variable CLUSTERTOP_CONFIG)"
    )


def test_config_path_with_tilde_uses_env_home(env: dict[str, str]) -> None:
    home = Path(env["HOME"])
    home.mkdir()
    (home / "ct.toml").write_text('theme = "nord"\nssh_config = "~/.ssh/lab_config"\n')
    config = load_config({}, env, path=Path("~/ct.toml"))
    assert config.theme == "nord"
    assert config.ssh_config == home / ".ssh" / "lab_config"


def test_durations_sizes_and_empty_paths_from_the_file(env: dict[str, str]) -> None:
    write_config(
        env,
        'stale_after = "1h30m"\ncleanup_exited_after = 86400\nalert_log_size = "500MiB"\n'
        'audit_log = ""\nknown_hosts = "/etc/ssh/lab_known_hosts"\n',
    )
    config = load_config({}, env)
    assert config.stale_after == 5400.0
    assert config.cleanup_exited_after == 86400.0
    assert config.alert_log_size == 500 * 2**20
    assert config.audit_log is None
    assert config.known_hosts == Path("/etc/ssh/lab_known_hosts")


def test_tables(env: dict[str, str]) -> None:
    write_config(
        env,
        """
        [groups]
        gpus = ["gpu[01-04]", "@dgx"]
        dgx = "dgx[1-2]"
        [hosts."gpu01"]
        user = "alice"
        port = 2222
        sudo = true
        timeout = "30s"
        docker_host = "unix:///run/user/1000/docker.sock"
        nvidia_smi = "/usr/local/bin/nvidia-smi"
        [hosts."10.0.0.5"]
        interval = 5
        [keys]
        quit = "ctrl+q"
        """,
    )
    config = load_config({}, env)
    assert dict(config.groups) == {"gpus": ("gpu[01-04]", "@dgx"), "dgx": ("dgx[1-2]",)}
    assert config.host_override("gpu01") == HostOverride(
        user="alice",
        port=2222,
        sudo=True,
        timeout=30.0,
        docker_host="unix:///run/user/1000/docker.sock",
        nvidia_smi="/usr/local/bin/nvidia-smi",
    )
    assert config.host_override("GPU01").user == "alice"
    assert config.host_override("10.0.0.5").interval == 5.0
    assert config.host_override("gpu02") == HostOverride()
    assert dict(config.keys) == {"quit": "ctrl+q"}


def test_owner_rule_follows_the_settings(env: dict[str, str]) -> None:
    write_config(env, "owner_labels = [\"team\"]\nowner_name_regex = '^job-(?P<user>\\w+)'\n")
    env["CLUSTERTOP_OWNER_UNIX_USER_FALLBACK"] = "no"
    rule = load_config({}, env).owner_rule()
    assert owner_of(labels={"team": "vision"}, rule=rule) == "vision"
    assert owner_of(container_name="job-carol", rule=rule) == "carol"
    assert owner_of(container_name="carol", unix_user="root", rule=rule) is None
    off = load_config({"owner_name_regex": ""}, env).owner_rule()
    assert owner_of(container_name="job-carol", rule=off) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "interval = 'soon'\n",
            "interval: expected a number of seconds like 30 or '5m', got 'soon'",
        ),
        ("intervall = 5\n", "intervall: unknown setting (did you mean 'interval'?)"),
        ("[group]\na = ['b']\n", "group: unknown setting (did you mean 'groups'?)"),
        ("readonly = 'maybe'\n", "readonly: expected true or false (or 1/0, yes/no, on/off), got"),
        ("alert_log_size = 'big'\n", "alert_log_size: expected a size in bytes like 1048576"),
        ("max_handshakes = 0\n", "max_handshakes: expected a whole number of at least 1, got 0"),
        ("alert_disk_percent = 120\n", "alert_disk_percent: expected a number from 0 to 100"),
        ("interval = 0\n", "interval: must be more than 0 seconds, got 0"),
        ("theme = ''\n", "theme: expected a non-empty string"),
        ("owner_name_regex = '(x'\n", "owner_name_regex: not a valid regular expression"),
        ("owner_labels = 'a'\nowner_labels = 'b'\n", "invalid TOML: Cannot overwrite a value"),
        (
            '[hosts."gpu01"]\nport = 70000\n',
            'hosts."gpu01".port: expected a whole number from 1 to',
        ),
        (
            '[hosts."gpu01"]\nprot = 22\n',
            "hosts.\"gpu01\".prot: unknown key (did you mean 'port'?)",
        ),
        ('[hosts."gpu01"]\nuser = "-oX"\n', 'hosts."gpu01".user: expected a user name'),
        ('[hosts."gpu01"]\ndocker_host = "x"\n', 'hosts."gpu01".docker_host: expected a DOCKER_H'),
        ('[hosts."gpu01"]\nsudo = "sometimes"\n', 'hosts."gpu01".sudo: expected true or false'),
        ('[hosts."a@gpu01"]\nport = 22\n', 'hosts."a@gpu01": name the host without user or port'),
        ('[hosts."gpu;01"]\nport = 22\n', "hosts.\"gpu;01\": invalid host 'gpu;01'"),
        ("[hosts]\ngpu01 = 5\n", 'hosts."gpu01": expected a table like [hosts."gpu01"] port'),
        ("[hosts.gpu01]\n[hosts.GPU01]\n", 'hosts."GPU01": same host as hosts."gpu01"'),
        ("groups = 5\n", "groups: expected a table like [groups]"),
        ("[groups]\ng = 5\n", 'groups.g: expected a list of hosts like ["gpu[01-04]", "@cpus"]'),
        ("[groups]\ng = ['a', 'b[2-1]']\n", "groups.g[1]: invalid range 'b[2-1]': 2-1 is reve"),
        ("[groups]\na = ['@b']\nb = ['@a']\n", "groups.a: group cycle: @a -> @b -> @a"),
        ("[groups]\na = ['@c']\nb = []\n", "groups.a: unknown group '@c'; known groups: @a, @b"),
        ("[keys]\nquit = 5\n", "keys.quit: expected a key like 'q' or 'ctrl+q', got 5"),
    ],
)
def test_file_errors_name_file_key_and_problem(
    env: dict[str, str], text: str, message: str
) -> None:
    path = write_config(env, text)
    error = load_error(env)
    assert error.startswith(f"{path}: ")
    assert message in error


def test_setting_below_a_table_header_gets_a_hint(env: dict[str, str]) -> None:
    path = write_config(env, "[groups]\ngpus = ['gpu1']\ninterval = 5\n")
    assert load_error(env) == (
        f"{path}: groups.interval: expected a list of hosts like "
        '["gpu[01-04]", "@cpus"], got 5 (\'interval\' is a setting: settings go above the first '
        "[table])"
    )
    write_config(env, "[keys]\nreadonly = true\n")
    assert "keys.readonly: expected a key like 'q' or 'ctrl+q', got true ('readonly' is a" in (
        load_error(env)
    )


def test_toml_syntax_errors_keep_line_and_column(env: dict[str, str]) -> None:
    path = write_config(env, "interval = 2\ntheme = \n")
    assert load_error(env) == f"{path}: invalid TOML: Invalid value (at line 2, column 9)"


def test_unreadable_config_file(env: dict[str, str]) -> None:
    path = write_config(env, "")
    path.write_bytes(b"theme = '\xff'\n")
    assert load_error(env) == f"{path}: not UTF-8 text"
    path.unlink()
    path.mkdir()
    assert load_error(env).startswith(f"{path}: cannot read: Is a directory")


def test_env_and_command_line_errors_name_the_variable_or_option(env: dict[str, str]) -> None:
    env["CLUSTERTOP_STALE_AFTER"] = "soon"
    assert load_error(env) == (
        "environment variable CLUSTERTOP_STALE_AFTER: "
        "expected a number of seconds like 30 or '5m', got 'soon'"
    )
    del env["CLUSTERTOP_STALE_AFTER"]
    assert load_error(env, {"max_handshakes": "many"}) == (
        "option --max-handshakes: expected a whole number, got 'many'"
    )
    with pytest.raises(ValueError, match="'colour' is not a setting name"):
        load_config({"colour": "red"}, env)


def test_unknown_environment_variables_are_warnings(env: dict[str, str]) -> None:
    env |= {"CLUSTERTOP_INTERVALL": "5", "CLUSTERTOP_CONFIG": ""}
    config = load_config({}, env)
    assert config.warnings == (
        "ignoring unknown environment variable CLUSTERTOP_INTERVALL "
        "(did you mean 'CLUSTERTOP_INTERVAL'?)",
    )
    assert config.interval == 2.0


def test_render_config_shows_values_sources_and_tables(env: dict[str, str]) -> None:
    path = write_config(
        env,
        'stale_after = "1h30m"\nalert_log_size = "500MiB"\n'
        "[groups]\ngpus = ['gpu[01-02]']\n"
        '[hosts."10.0.0.5"]\nuser = "alice"\ntimeout = 30\n[keys]\nquit = "ctrl+q"\n',
    )
    env["CLUSTERTOP_INTERVAL"] = "5"
    shown = render_config(load_config({"readonly": True}, env))
    lines = shown.splitlines()
    assert lines[1] == f"# config file: {path}"
    setting_lines = [line for line in lines if " = " in line and "  # " in line]
    assert [line.split()[0] for line in setting_lines] == list(SETTINGS)
    assert len({line.index("=") for line in setting_lines}) == 1, "values are aligned"
    by_name = {line.split()[0]: line for line in setting_lines}
    assert by_name["interval"].endswith('"5s"                      # env CLUSTERTOP_INTERVAL')
    assert by_name["stale_after"].endswith(f"# file {path}")
    assert '"1h30m"' in by_name["stale_after"]
    assert '"500MiB"' in by_name["alert_log_size"]
    assert by_name["readonly"].split("#")[1].strip() == "command line --readonly"
    assert by_name["known_hosts"].endswith(
        "# default (unset: the ssh config's UserKnownHostsFile, else ~/.ssh/known_hosts)"
    )
    assert '[groups]\ngpus = ["gpu[01-02]"]\n' in shown
    assert '[hosts."10.0.0.5"]\nuser = "alice"\ntimeout = "30s"\n' in shown
    assert shown.endswith('[keys]\nquit = "ctrl+q"\n')


def test_rendered_config_is_toml_that_loads_back_the_same(
    env: dict[str, str], tmp_path: Path
) -> None:
    write_config(
        env,
        "interval = 0.5\nowner_name_regex = '^(?P<user>\\w+)-'\nowner_labels = ['a', 'b']\n"
        "[groups]\nall = ['x[1-3]', '@b']\nb = 'y'\n[hosts.x1]\nport = 2\nsudo = true\n",
    )
    env["CLUSTERTOP_AUDIT_LOG"] = ""
    original = load_config({}, env)
    copy = tmp_path / "copy.toml"
    copy.write_text(render_config(original))
    assert tomllib.loads(copy.read_text())["hosts"] == {"x1": {"port": 2, "sudo": True}}
    reloaded = load_config({}, {"HOME": env["HOME"]}, path=copy)
    for name in SETTINGS:
        assert getattr(reloaded, name) == getattr(original, name), name
    assert (reloaded.groups, reloaded.hosts) == (original.groups, original.hosts)


def test_render_without_a_file_or_tables(env: dict[str, str]) -> None:
    shown = render_config(load_config({}, env))
    assert (
        f"# config file: none (looked for {env['XDG_CONFIG_HOME']}/clustertop/config.toml)" in shown
    )
    assert "# no [groups]" in shown
    assert '# no [hosts."<name>"] overrides' in shown
    assert shown.endswith("# no [keys] remaps\n")
    assert "audit_log" in shown and "xdg-state/clustertop/audit.jsonl" in shown
