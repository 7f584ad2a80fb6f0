#ifndef BERTH_CTOML_H
#define BERTH_CTOML_H
#ifdef __cplusplus
extern "C" {
#endif

/// Parses TOML text (toml++) and returns it as a JSON document (malloc'd, caller frees).
/// On a parse error returns NULL and sets *error to a malloc'd message naming line
/// and column. Dates and times come out as JSON strings.
char *berth_toml_to_json(const char *text, unsigned long length, char **error);

#ifdef __cplusplus
}
#endif
#endif
