//! How a provider is registered: the `providers!` macro builds, from one line per provider,
//! its module, the `paybridge <provider>` subcommand, its dispatch, its sandbox mount, its
//! demo flow, its `receive` route and the provider the reconciler asks. The list itself is in
//! `providers/mod.rs`.

/// Declares every provider from one list: the provider modules (`providers/<module>.rs`),
/// the `paybridge <provider>` subcommand enum, its dispatch, the sandbox mounts and the demo
/// flows, `receive`'s routes and the reconciler's providers. Each listed module provides
/// `Command`, `run`, `mount`, `demo(endpoint, base_url, log)`, `receive_route(settings)` and
/// `status_provider(settings, stores)`.
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
            ctx: &$crate::mounts::SandboxContext,
        ) -> Result<Vec<$crate::mounts::Mount>, $crate::output::CliError> {
            Ok(vec![$($module::mount(ctx)?,)*])
        }

        /// Every provider's demo flow against the running sandbox, in order.
        pub(crate) async fn demo_flows(
            sandbox: &$crate::mounts::RunningSandbox,
        ) -> Vec<$crate::flows::FlowResult> {
            let base_url = format!("http://{}", sandbox.addr);
            let mut results = Vec::new();
            $(
                if let Some(endpoint) = sandbox.endpoints.get($name) {
                    let mut log = $crate::flows::FlowLog::default();
                    let error = $module::demo(endpoint, &base_url, &mut log).await.err();
                    results.push($crate::flows::FlowResult { provider: $name, log, error });
                }
            )*
            results
        }

        /// Every provider's callback route whose settings are there (`paybridge receive`).
        pub(crate) fn receive_routes(
            settings: &$crate::settings::Settings<'_>,
        ) -> Result<Vec<std::sync::Arc<dyn paybridge_core::CallbackRoute>>, $crate::output::CliError> {
            let mut routes = Vec::new();
            $(routes.extend($module::receive_route(settings)?);)*
            Ok(routes)
        }

        /// Every provider whose settings say where to ask it about its payments (the
        /// reconciler, `ledger refunds --resolve`), keeping them in `ledger`.
        pub(crate) fn status_providers(
            settings: &$crate::settings::Settings<'_>,
            ledger: &std::sync::Arc<paybridge_ledger::Ledger>,
        ) -> Result<Vec<std::sync::Arc<dyn paybridge_core::PaymentProvider>>, $crate::output::CliError> {
            let stores = || paybridge_core::Stores::in_memory().records(ledger.clone());
            let mut providers = Vec::new();
            $(providers.extend($module::status_provider(settings, stores())?);)*
            Ok(providers)
        }
    };
}

pub(crate) use providers;
