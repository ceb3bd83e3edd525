//! `conturs`: the operator command line for Conturs (the logic lives in the `conturs_cli`
//! library, so the end-to-end tests can build the same binary in their own package).

fn main() -> std::process::ExitCode {
    conturs_cli::main()
}
