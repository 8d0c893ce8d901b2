use clap::Parser;
use costwatch::cli::Cli;
use costwatch::error::exit_code;

/// mimalloc: the ingest path allocates and frees many small strings across threads, which
/// glibc's allocator serialises on its arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
