//! Real processes a test can kill or measure: a dyno (worker or web), and a private
//! `redis-server` that can be restarted empty. The crash and restart tests need both, because
//! killing a task inside the test process would not show what a killed process leaves behind;
//! the dyno bench needs them to see each dyno's own memory and CPU.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running dyno — `conturs-worker` or `conturs-api`, the same code built in this package as
/// `conturs-test-worker` / `conturs-test-api` — logging to a file.
pub struct DynoProcess {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl DynoProcess {
    /// Starts `exe` with `env` added to a clean-ish environment (PATH and HOME kept).
    pub fn spawn(exe: &Path, env: &[(&'static str, String)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("dyno.log");
        let out = std::fs::File::create(&log)?;
        let mut command = Command::new(exe);
        command
            .env_clear()
            .envs(std::env::var("PATH").map(|path| ("PATH", path)))
            .envs(std::env::var("HOME").map(|home| ("HOME", home)))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = command.spawn()?;
        Ok(Self {
            child,
            log,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to clean up, as in a crash or an OOM kill.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as Heroku sends before a restart or a scale-down.
    pub fn terminate(&self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.pid());
        Ok(())
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the kernel says of this process now (memory, CPU time), or `None` once it is gone.
    pub fn usage(&self) -> Option<ProcessUsage> {
        ProcessUsage::of(&self.pid().to_string())
    }

    /// Waits until a web dyno answers `GET {base_url}/healthz` with a success, up to
    /// `timeout`; fails with its log when it does not.
    pub async fn wait_healthy(&self, base_url: &str, timeout: Duration) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(response) = http.get(format!("{base_url}/healthz")).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the dyno did not answer {base_url}/healthz within {timeout:?}; its log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The dyno's log so far, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DynoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private `redis-server` without persistence on a free port: restarting it loses
/// everything, like a Heroku Redis without persistence after a maintenance restart.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    pub async fn start() -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Self::launch(port)?;
        let server = Self { child, port };
        server.wait_ready().await?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Freezes the server (SIGSTOP): connections stay open and commands get no answer, as when
    /// the network to Redis drops packets. [`RedisServer::resume`] thaws it with its data.
    pub fn pause(&self) -> anyhow::Result<()> {
        self.signal("-STOP")
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) -> anyhow::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status()?;
        anyhow::ensure!(status.success(), "kill {signal} {pid} failed");
        Ok(())
    }

    /// Kills the server and starts an empty one on the same port.
    pub async fn restart_empty(&mut self) -> anyhow::Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::launch(self.port)?;
        self.wait_ready().await
    }

    fn launch(port: u16) -> anyhow::Result<Child> {
        Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start redis-server (is it installed?): {e}"))
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = redis::Client::open(self.url())?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "redis-server on port {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server would not die of SIGKILL until thawed on some kernels' accounting;
        // thaw first so nothing is left behind.
        let _ = self.resume();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second of `/proc/PID/stat` times (fixed at 100 by Linux's user ABI).
const USER_HZ: f64 = 100.0;

/// A process' memory and CPU time as Linux reports them in `/proc`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessUsage {
    /// Resident set size now (`VmRSS`), MiB.
    pub rss_mib: f64,
    /// Highest resident set size since start or the last reset (`VmHWM`), MiB.
    pub peak_rss_mib: f64,
    /// CPU time (user + system, all threads) since start (`/proc/PID/stat`), seconds.
    pub cpu_s: f64,
}

impl ProcessUsage {
    /// Reads `/proc/{pid}/…`; `pid` may be `"self"`.
    pub fn of(pid: &str) -> Option<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let mib = |field: &str| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
                .map(|kib| kib / 1024.0)
        };
        // utime + stime (fields 14 and 15, after the parenthesised name) count every thread,
        // the ones that have exited too, in USER_HZ ticks: 100 a second on Linux.
        let cpu_ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
            });
        Some(Self {
            rss_mib: mib("VmRSS:")?,
            peak_rss_mib: mib("VmHWM:")?,
            cpu_s: cpu_ticks.map_or(f64::NAN, |ticks| ticks / USER_HZ),
        })
    }

    /// Resets `pid`'s peak RSS to its current RSS (Linux ≥ 4.0), so the next peak is that of
    /// what runs from now on; false when the kernel refuses.
    pub fn reset_peak(pid: &str) -> bool {
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
    }
}

/// A private PostgreSQL server on a free port, in a temporary data directory, that a test may
/// crash and restart without touching the machine's shared server.
pub struct PostgresServer {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

impl PostgresServer {
    /// initdb + start (trust auth, fsync off: a test server). Run as the `postgres` user when
    /// this process is root, as initdb refuses root.
    pub async fn start() -> anyhow::Result<Self> {
        let bin = postgres_bin_dir()?;
        let data = tempfile::Builder::new()
            .prefix("conturs-test-pg-")
            .tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let server = Self { bin, data, port };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.data.path())
                .status()?;
            anyhow::ensure!(status.success(), "chown of the data directory failed");
        }
        server.run_tool(
            "initdb",
            &[
                "-D",
                &server.dir(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        )?;
        server.pg_ctl_start()?;
        Ok(server)
    }

    /// The admin URL tests create their databases through.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Crashes the server (`pg_ctl stop -m immediate`: no checkpoint, every connection cut, as a
    /// killed or failed-over server) and starts it again after `down`; WAL recovery runs.
    pub async fn crash_and_restart(&self, down: Duration) -> anyhow::Result<()> {
        self.run_tool("pg_ctl", &["-D", &self.dir(), "-m", "immediate", "stop"])?;
        tokio::time::sleep(down).await;
        self.pg_ctl_start()
    }

    fn dir(&self) -> String {
        self.data.path().display().to_string()
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir()
        );
        let log = format!("{}/server.log", self.dir());
        self.run_tool(
            "pg_ctl",
            &["-D", &self.dir(), "-o", &options, "-l", &log, "-w", "start"],
        )
    }

    fn run_tool(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(tool);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let output = command.args(args).stdin(Stdio::null()).output()?;
        anyhow::ensure!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self.run_tool("pg_ctl", &["-D", &self.dir(), "-m", "immediate", "stop"]);
    }
}

/// Debian's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`), newest version first.
fn postgres_bin_dir() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| anyhow::anyhow!("PostgreSQL server binaries not found: {e}"))?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no pg_ctl under /usr/lib/postgresql/*/bin"))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}
