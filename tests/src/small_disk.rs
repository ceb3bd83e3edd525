//! A tiny filesystem (tmpfs) a test can fill up, enlarge or make read-only, to see what the
//! embedded SQLite setup does when its disk is full or turns read-only. Needs `mount`
//! privileges (root in the test sandbox, as on this project's machines).

use std::path::Path;
use std::process::Command;

/// A mounted tmpfs, unmounted when dropped.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `bytes` on a fresh temporary directory.
    pub fn mount(bytes: u64) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("conturs-small-disk-")
            .tempdir()?;
        mount(&[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={bytes}"),
            "tmpfs",
            &dir.path().display().to_string(),
        ])?;
        Ok(Self { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes in use.
    pub fn used(&self) -> anyhow::Result<u64> {
        let output = Command::new("df")
            .args(["--output=used", "-B1"])
            .arg(self.path())
            .output()?;
        anyhow::ensure!(output.status.success(), "df failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("df printed no size"))
    }

    /// Changes the size limit (smaller than what is used makes every new write fail).
    pub fn resize(&self, bytes: u64) -> anyhow::Result<()> {
        self.remount(&format!("remount,size={bytes}"))
    }

    /// Makes the filesystem read-only (`ro`) or writable again (`rw`).
    pub fn set_read_only(&self, read_only: bool) -> anyhow::Result<()> {
        self.remount(if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        })
    }

    fn remount(&self, options: &str) -> anyhow::Result<()> {
        mount(&["-o", options, &self.path().display().to_string()])
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a process still holding a file there must not keep the mount alive.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

fn mount(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("mount").args(args).output()?;
    anyhow::ensure!(
        output.status.success(),
        "mount {args:?} failed (the test needs mount privileges): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
