"""Config file change detection: content changes count; touches, missing files and same bytes do not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inferlane.config.watch import ConfigFileWatcher

BASE_NS = 1_700_000_000_000_000_000


def write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "proxy.yaml"
    write(path, "server:\n  port: 1\n", BASE_NS)
    return path


def test_unchanged_file_is_no_change(config: Path) -> None:
    watcher = ConfigFileWatcher(config)
    assert [watcher.poll() for _ in range(3)] == [False, False, False]


def test_new_content_is_a_change_reported_once(config: Path) -> None:
    watcher = ConfigFileWatcher(config)
    write(config, "server:\n  port: 2\n", BASE_NS + 10**9)
    assert watcher.poll() is True
    assert watcher.poll() is False


def test_touch_without_new_content_is_no_change(config: Path) -> None:
    watcher = ConfigFileWatcher(config)
    os.utime(config, ns=(BASE_NS + 5 * 10**9, BASE_NS + 5 * 10**9))
    assert watcher.poll() is False
    write(config, "server:\n  port: 1\n", BASE_NS + 6 * 10**9)  # rewritten, same bytes
    assert watcher.poll() is False


def test_same_size_same_mtime_rewrite_is_still_seen(config: Path) -> None:
    watcher = ConfigFileWatcher(config)
    replacement = config.with_name("proxy.yaml.new")
    write(replacement, "server:\n  port: 9\n", BASE_NS)  # same size, same mtime: only the inode differs
    replacement.replace(config)
    assert watcher.poll() is True


def test_missing_file_is_no_change_and_its_return_is_compared_with_the_baseline(config: Path) -> None:
    watcher = ConfigFileWatcher(config)
    config.unlink()
    assert watcher.poll() is False
    write(config, "server:\n  port: 1\n", BASE_NS + 10**9)  # back with the same content
    assert watcher.poll() is False
    config.unlink()
    assert watcher.poll() is False
    write(config, "server:\n  port: 3\n", BASE_NS + 2 * 10**9)  # back with new content
    assert watcher.poll() is True


def test_file_missing_at_start_appearing_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    watcher = ConfigFileWatcher(path)
    assert watcher.poll() is False
    write(path, "server: {}\n", BASE_NS)
    assert watcher.poll() is True
    assert watcher.poll() is False


def test_unreadable_path_does_not_raise(tmp_path: Path) -> None:
    directory = tmp_path / "proxy.yaml"
    directory.mkdir()
    watcher = ConfigFileWatcher(directory)
    os.utime(directory, ns=(BASE_NS, BASE_NS))
    assert watcher.poll() is False


def test_reset_takes_the_current_content_as_baseline(config: Path) -> None:
    watcher = ConfigFileWatcher(config)
    write(config, "server:\n  port: 2\n", BASE_NS + 10**9)
    watcher.reset()
    assert watcher.poll() is False
    write(config, "server:\n  port: 1\n", BASE_NS + 2 * 10**9)
    assert watcher.poll() is True


def test_kubernetes_configmap_symlink_swap(tmp_path: Path) -> None:
    """The kubelet's layout: proxy.yaml -> ..data/proxy.yaml, ..data -> ..2024_01_01_00_00_00.1; an update
    writes a new timestamped directory and renames a new ``..data`` link over the old one."""
    mount = tmp_path / "config"
    mount.mkdir()
    old = mount / "..2024_01_01_00_00_00.1"
    old.mkdir()
    write(old / "proxy.yaml", "server:\n  port: 1\n", BASE_NS)
    (mount / "..data").symlink_to(old.name)
    (mount / "proxy.yaml").symlink_to("..data/proxy.yaml")
    watcher = ConfigFileWatcher(mount / "proxy.yaml")

    new = mount / "..2024_01_01_00_05_00.2"
    new.mkdir()
    write(new / "proxy.yaml", "server:\n  port: 2\n", BASE_NS)  # same size and mtime as the old file
    (mount / "..data_tmp").symlink_to(new.name)
    (mount / "..data_tmp").replace(mount / "..data")
    assert watcher.poll() is True
    assert watcher.poll() is False

    # the kubelet then removes the old directory: nothing changes for the watcher
    (old / "proxy.yaml").unlink()
    old.rmdir()
    assert watcher.poll() is False


def test_symlink_swap_to_identical_content_is_no_change(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    write(first, "server: {}\n", BASE_NS)
    write(second, "server: {}\n", BASE_NS + 10**9)
    link = tmp_path / "proxy.yaml"
    link.symlink_to(first.name)
    watcher = ConfigFileWatcher(link)
    link.unlink()
    link.symlink_to(second.name)
    assert watcher.poll() is False
