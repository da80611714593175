//! How a provider is registered: the `providers!` macro builds, from one line per provider,
//! its module, the `paybridge <provider>` subcommand, its dispatch, its sandbox mount and its
//! demo flow. The list itself is in `providers/mod.rs`.

/// Declares every provider from one list: the provider modules (`providers/<module>.rs`),
/// the `paybridge <provider>` subcommand enum, its dispatch, the sandbox mounts and the demo
/// flows. Each listed module provides `Command`, `run`, `mount` and
/// `demo(endpoint, base_url, log)`.
macro_rules! providers {
    ($( $(#[$doc:meta])* $variant:ident => $module:ident, $name:literal; )*) => {
        $(pub(crate) mod $module;)*

        /// Every provider's name (its id in the ledger).
        pub(crate) const PROVIDER_NAMES: &[&str] = &[$($name,)*];

        /// Provider subcommands (`paybridge <provider> <command>`).
        #[derive(Debug, clap::Subcommand)]
        pub(crate) enum ProviderCommand {
            $(
                $(#[$doc])*
                #[command(subcommand, name = $name)]
                $variant($module::Command),
            )*
        }

        /// Run a provider subcommand.
        pub(crate) async fn run(command: ProviderCommand) -> Result<$crate::output::Outcome, $crate::output::CliError> {
            match command {
                $(ProviderCommand::$variant(c) => $module::run(c).await,)*
            }
        }

        /// Every provider's simulator, mounted on one router.
        pub(crate) fn sandbox_mounts(
            ctx: &$crate::sandbox::SandboxContext,
        ) -> Result<Vec<$crate::sandbox::Mount>, $crate::output::CliError> {
            Ok(vec![$($module::mount(ctx)?,)*])
        }

        /// Every provider's demo flow against the running sandbox, in order.
        pub(crate) async fn demo_flows(
            sandbox: &$crate::sandbox::RunningSandbox,
        ) -> Vec<$crate::demo::FlowResult> {
            let base_url = format!("http://{}", sandbox.addr);
            let mut results = Vec::new();
            $(
                if let Some(endpoint) = sandbox.endpoints.get($name) {
                    let mut log = $crate::demo::FlowLog::default();
                    let error = $module::demo(endpoint, &base_url, &mut log).await.err();
                    results.push($crate::demo::FlowResult { provider: $name, log, error });
                }
            )*
            results
        }
    };
}

pub(crate) use providers;
