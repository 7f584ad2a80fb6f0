// Images: store, import, export, unpack, garbage collection.
