use clap::Parser;
use costwatch::cli::Cli;
use costwatch::error::exit_code;

fn main() {
    let cli = Cli::parse();
    costwatch::logging::init(cli.log_format, cli.verbose);
    let code = match cli.execute() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            exit_code(&err)
        }
    };
    std::process::exit(code);
}
