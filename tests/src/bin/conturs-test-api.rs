//! The web dyno, built inside the test package so benches and tests can start it as a child
//! process (measure it, kill it) by `CARGO_BIN_EXE_conturs-test-api`. Same function as
//! `conturs-api`; nothing test-specific runs here.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    api::run_api_process().await
}
