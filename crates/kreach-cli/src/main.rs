fn main() -> std::process::ExitCode {
    kreach_cli::main()
}
