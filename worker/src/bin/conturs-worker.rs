//! `conturs-worker`: a worker dyno. Runs every job type on both lanes until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    worker::run_worker_process().await
}
