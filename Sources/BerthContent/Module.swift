// The content store lives here (ContentStore.swift, Ingest.swift, LeaseStore.swift).
