//! The operator CLI (`conturs`), built inside the test package so `tests/it/cli.rs` can run it
//! as a child process by `CARGO_BIN_EXE_conturs-test-cli`. Same function as `conturs`.

fn main() -> std::process::ExitCode {
    conturs_cli::main()
}
