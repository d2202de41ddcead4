//! The rotation grid of each trust: rows kept by trust and position key (DNC files write them).

use super::store::*;
use dit_core::ports::StoreError;
use dit_domain::dnc::RotationEntry;
use rusqlite::params;

impl SqliteStore {
    /// Rotation rows, each replacing the row of its trust and position key.
    pub(super) async fn put_rotation(&self, entries: &[RotationEntry]) -> Result<(), StoreError> {
        self.transaction(|tx| {
            for entry in entries {
                execute(
                    tx,
                    "INSERT INTO rotation (vpd, position_key, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (vpd, position_key) DO UPDATE SET body = excluded.body",
                    params![entry.vpd, entry.position_key, to_json(entry)?],
                )?;
            }
            Ok(())
        })
    }

    /// The rows of `position_keys` of the trust's grid.
    pub(super) async fn delete_rotation(
        &self,
        vpd: &str,
        position_keys: &[String],
    ) -> Result<(), StoreError> {
        if position_keys.is_empty() {
            return Ok(());
        }
        self.transaction(|tx| {
            for key in position_keys {
                tx.execute(
                    "DELETE FROM rotation WHERE vpd = ?1 AND position_key = ?2",
                    params![vpd, key],
                )
                .map_err(unavailable)?;
            }
            Ok(())
        })
    }
}
