//! `conturs-api`: the web dyno.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    api::run_api_process().await
}
