//! What one call's store holds, and the host side of the interface (both versions): the
//! plugin's log lines and crash report, its captured output, and its memory, capped and
//! measured.

use super::{v0_1, v0_2};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// What one call's store holds.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    /// The largest size a linear memory of the call grew to, in bytes.
    pub peak_memory: usize,
    /// The rule, for log lines.
    pub rule: String,
    /// Lines the plugin logged through the host interface.
    pub log: Vec<(v0_2::Level, String)>,
    /// The crash the plugin reported before it stopped (0.2).
    pub crash: Option<v0_2::Crash>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl State {
    /// The state of a call of `rule`: empty WASI context (no files, network, environment or
    /// arguments; stdout and stderr captured up to `output_capacity` bytes each) and linear
    /// memories capped at `memory_bytes`, growing past it a trap.
    pub fn new(rule: &str, memory_bytes: usize, output_capacity: usize) -> Self {
        let stdout = MemoryOutputPipe::new(output_capacity);
        let stderr = MemoryOutputPipe::new(output_capacity);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            peak_memory: 0,
            crash: None,
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(64)
                .tables(64)
                .memories(16)
                .trap_on_grow_failure(true)
                .build(),
            rule: rule.to_string(),
            log: Vec::new(),
            stdout,
            stderr,
        }
    }

    /// The panic message the 0.1 SDK's panic hook logged, if any.
    pub fn panic_message(&self) -> Option<&str> {
        self.log
            .iter()
            .rev()
            .find_map(|(_, m)| m.strip_prefix("panicked: "))
    }

    /// What the plugin wrote to stdout and stderr.
    pub fn output(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.stdout.contents()).into_owned();
        out.push_str(&String::from_utf8_lossy(&self.stderr.contents()));
        out
    }

    /// Sends what the plugin printed to costwatch's log.
    pub fn flush_output(&self) {
        for line in self.output().lines().filter(|l| !l.trim().is_empty()) {
            tracing::warn!(rule = %self.rule, "plugin output: {line}");
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for State {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory = self.peak_memory.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl v0_2::costwatch::rule::types::Host for State {}
impl v0_1::costwatch::rule::types::Host for State {}

impl v0_2::costwatch::rule::host::Host for State {
    fn log(&mut self, level: v0_2::Level, message: String) {
        let rule = self.rule.as_str();
        match level {
            v0_2::Level::Debug => tracing::debug!(rule, "{message}"),
            v0_2::Level::Info => tracing::info!(rule, "{message}"),
            v0_2::Level::Warn => tracing::warn!(rule, "{message}"),
            v0_2::Level::Error => tracing::error!(rule, "{message}"),
        }
        if self.log.len() < 1000 {
            self.log.push((level, message));
        }
    }

    fn report_crash(&mut self, report: v0_2::Crash) {
        if let Some(trace) = &report.trace {
            tracing::warn!(rule = %self.rule, "plugin crashed: {trace}");
        }
        self.crash = Some(report);
    }
}

impl v0_1::costwatch::rule::host::Host for State {
    fn log(&mut self, level: v0_1::costwatch::rule::host::Level, message: String) {
        v0_2::costwatch::rule::host::Host::log(self, v0_1::level(level), message);
    }
}
