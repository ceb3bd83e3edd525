//! The worker dyno, built inside the test package so the crash tests can start it as a child
//! process (and kill it) by `CARGO_BIN_EXE_conturs-test-worker`. Same function as
//! `conturs-worker`; nothing test-specific runs here.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    worker::run_worker_process().await
}
