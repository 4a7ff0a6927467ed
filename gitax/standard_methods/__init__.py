"""The methods gitax ships, as exax ships its standard methods: csvimport, dataset_type,
dataset_hashpart, dataset_sort, dataset_filter_columns, csvexport, dataset_checksum. Each
`a_<name>.py` here is a method like a project's own (a project's method of the same name
shadows it); this package is not imported by gitax itself."""
