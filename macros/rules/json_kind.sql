{#-
    The JSON kind of a field from its `schema_of_variant()` text: 'string',
    'number', 'boolean', 'object', 'array', or 'null' for a JSON null and for
    an absent field (SPEC treats both alike). Used to reject fields of the
    wrong JSON shape (SPEC rule 1) and to validate user.id (rule 4). Takes the
    schema text, not the value, so Spark computes schema_of_variant once.
-#}
{% macro json_kind(schema_expr) -%}
    case
        when {{ schema_expr }} is null or {{ schema_expr }} = 'VOID' then 'null'
        when {{ schema_expr }} = 'STRING' then 'string'
        when {{ schema_expr }} = 'BOOLEAN' then 'boolean'
        when {{ schema_expr }} like 'OBJECT<%' then 'object'
        when {{ schema_expr }} like 'ARRAY<%' then 'array'
        else 'number'
    end
{%- endmacro %}

{#-
    True when a field's text (try_variant_get(..., 'string')) may come from a
    boolean, an object or an array rather than a string or a number: Spark
    reads those as `true`/`false` and as their JSON text. Only then does
    stg_web_events pay for schema_of_variant to tell them apart.
-#}
{% macro text_of_non_text_shape(text_expr) -%}
    ({{ text_expr }} in ('true', 'false') or left({{ text_expr }}, 1) in ('{', '['))
{%- endmacro %}
