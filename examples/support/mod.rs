//! What the examples share: reading their command line, and saying what is wrong with it in
//! one line. Not part of the library: an application would use its own argument parser.
#![allow(dead_code)]

use std::fmt::Display;
use std::io;

use smolweb::Server;

/// The address every example listens on unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// An example's command line: its name, its arguments and what it does, for `--help`.
pub struct Usage {
    /// The program's name, as in `cargo run --example NAME`.
    pub name: &'static str,
    /// The arguments after the name, e.g. `[ADDR] [DIR]`.
    pub args: &'static str,
    /// What it serves and the URLs to open, in a few lines.
    pub about: &'static str,
}

impl Usage {
    /// The positional arguments (at most `max`). `-h` or `--help` prints the usage and exits
    /// with status 0; an option it does not know or one argument too many is refused.
    pub fn parse(&self, max: usize) -> Vec<String> {
        self.parse_with(max, &[]).0
    }

    /// [`parse`](Self::parse), also taking the options named in `options` (each followed by
    /// its value: `--sessions redis://host`); returns the positional arguments and the value
    /// of each option given, in the order of `options`. An option given twice is refused.
    pub fn parse_with(&self, max: usize, options: &[&str]) -> (Vec<String>, Vec<Option<String>>) {
        let (args, values) = self.parse_repeated(max, options);
        let values = values
            .into_iter()
            .zip(options)
            .map(|(mut given, option)| {
                if given.len() > 1 {
                    self.refuse(format!("{option} given more than once (see --help)"));
                }
                given.pop()
            })
            .collect();
        (args, values)
    }

    /// [`parse_with`](Self::parse_with) for options that may be given several times
    /// (`--cors-origin A --cors-origin B`): every value of each, in the order given.
    pub fn parse_repeated(&self, max: usize, options: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
        self.parse_all(max, options, &[]).0
    }

    /// [`parse_with`](Self::parse_with), also taking the switches named in `flags` (options
    /// without a value: `--compress`); returns whether each was given, in the order of
    /// `flags`.
    pub fn parse_with_flags(
        &self,
        max: usize,
        options: &[&str],
        flags: &[&str],
    ) -> (Vec<String>, Vec<Option<String>>, Vec<bool>) {
        let ((args, values), given) = self.parse_all(max, options, flags);
        let values = values.into_iter().map(|mut v| v.pop()).collect();
        (args, values, given)
    }

    #[allow(clippy::type_complexity)]
    fn parse_all(
        &self,
        max: usize,
        options: &[&str],
        flags: &[&str],
    ) -> ((Vec<String>, Vec<Vec<String>>), Vec<bool>) {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        let given: Vec<bool> = flags
            .iter()
            .map(|flag| {
                let before = args.len();
                args.retain(|a| a != flag);
                args.len() < before
            })
            .collect();
        let mut values = vec![Vec::new(); options.len()];
        for (i, option) in options.iter().enumerate() {
            while let Some(at) = args.iter().position(|a| a == option) {
                if at + 1 >= args.len() {
                    self.refuse(format!("{option} needs a value (see --help)"));
                }
                values[i].push(args.remove(at + 1));
                args.remove(at);
            }
        }
        if args.iter().any(|a| a == "-h" || a == "--help") {
            println!(
                "usage: {} {}\n\n{}",
                self.name,
                self.args,
                self.about.trim_end()
            );
            std::process::exit(0);
        }
        if let Some(option) = args.iter().find(|a| a.starts_with('-')) {
            self.refuse(format!("unknown option {option} (see --help)"));
        }
        if args.len() > max {
            self.refuse(format!("unexpected argument {} (see --help)", args[max]));
        }
        ((args, values), given)
    }

    /// Prints `NAME: message` on stderr and exits with status 2 (a mistake in the command
    /// line).
    pub fn refuse(&self, message: impl Display) -> ! {
        eprintln!("{}: {message}", self.name);
        std::process::exit(2)
    }

    /// A server listening on `addr` (`HOST:PORT`, or `unix:PATH` for a Unix-domain socket),
    /// or the reason it cannot, as a refusal.
    pub fn bind(&self, addr: &str) -> Server {
        // A socket passed by a supervisor (LISTEN_FDS) wins over the address.
        #[cfg(feature = "activation")]
        match Server::from_activation() {
            Ok(Some(server)) => return server,
            Ok(None) => {}
            Err(e) => self.refuse(format!("LISTEN_FDS: {e}")),
        }
        match addr.strip_prefix("unix:") {
            Some(path) => Server::bind_unix(path),
            None => Server::bind(addr),
        }
        .unwrap_or_else(|e| self.refuse(e))
    }

    /// Ends the program with what serving returned: on an error, one line and status 1.
    pub fn exit(&self, served: io::Result<()>) {
        if let Err(e) = served {
            eprintln!("{}: {e}", self.name);
            std::process::exit(1);
        }
    }
}

/// Where `server` can be reached: `http://HOST:PORT`, or `unix:PATH` for a Unix socket.
pub fn url(server: &Server) -> String {
    match server.unix_path() {
        Some(path) => format!("unix:{}", path.display()),
        None => format!("http://{}", server.local_addr()),
    }
}
