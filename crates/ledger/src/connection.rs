//! Opening a ledger the way an operator expects: a reading command never creates or migrates
//! one, a schema older than the build says to migrate, an unreachable server is named by its
//! host — never with its password.

use crate::{LedgerError, Result};

/// The host (and port) of a database URL, without user or password: what an error may name.
pub(crate) fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_owned()
}

/// A connection that failed, as [`LedgerError::Unreachable`]: the host, and what the driver
/// said with any trace of the password removed.
pub(crate) fn unreachable(url: &str, e: &sqlx::Error) -> LedgerError {
    let mut message = e.to_string();
    if let Some(password) = password(url).filter(|p| !p.is_empty()) {
        message = message.replace(password, "***");
    }
    LedgerError::Unreachable {
        host: host(url),
        message,
    }
}

fn password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, p)| p)
}

/// Migrate (`create`) or only check that every migration of this build was applied.
pub(crate) async fn migrate_or_check<'a, A>(
    migrator: &sqlx::migrate::Migrator,
    pool: A,
    create: bool,
) -> Result<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    if create {
        migrator.run(pool).await?;
        return Ok(());
    }
    let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    let mut conn = pool.acquire().await?;
    let applied = sqlx::migrate::Migrate::list_applied_migrations(&mut *conn, &migrator.table_name)
        .await
        .unwrap_or_default()
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    if applied < latest {
        return Err(LedgerError::Outdated { applied, latest });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_is_named_by_its_host_never_its_password() {
        let url = "postgres://app:s3cret@db.internal:5432/ledger?sslmode=require";
        assert_eq!(super::host(url), "db.internal:5432");
        assert_eq!(super::password(url), Some("s3cret"));
    }
}
