{#-
    A path var as Spark must see it: absolute, because Spark resolves a
    relative path against its own working folder (the Thrift server's, on a
    server). URIs (s3a://, hdfs://, file:/...) and absolute paths pass through;
    a relative path is taken against the project folder (WEB_EVENTS_HOME, which
    `make` sets, else the shell's PWD).
-#}
{% macro resolve_path(path) %}
    {%- set path = path | string | trim -%}
    {%- if path == '' -%}
        {{ exceptions.raise_compiler_error("A path var is empty: set events_path / export_dir to a file, folder or glob.") }}
    {%- endif -%}
    {%- if path.startswith('/') or modules.re.match('^[A-Za-z][A-Za-z0-9+.-]*:', path) -%}
        {{- return(path) -}}
    {%- endif -%}
    {%- set home = env_var('WEB_EVENTS_HOME', env_var('PWD', '')) | trim -%}
    {%- if home == '' -%}
        {{ exceptions.raise_compiler_error("Cannot resolve the relative path '" ~ path ~ "': set WEB_EVENTS_HOME to the project folder or pass an absolute path.") }}
    {%- endif -%}
    {%- set relative = path[2:] if path.startswith('./') else path -%}
    {{- return(home.rstrip('/') ~ '/' ~ relative) -}}
{% endmacro %}
