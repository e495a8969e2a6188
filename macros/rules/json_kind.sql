{#-
    The JSON kind of a VARIANT value: 'string', 'number', 'boolean', 'object',
    'array', or 'null' for a JSON null and for an absent field (SPEC treats
    both alike).
    Used to reject fields of the wrong JSON shape (SPEC rule 1).
-#}
{% macro json_kind(variant_expr) -%}
    case
        when {{ variant_expr }} is null or schema_of_variant({{ variant_expr }}) = 'VOID' then 'null'
        when schema_of_variant({{ variant_expr }}) = 'STRING' then 'string'
        when schema_of_variant({{ variant_expr }}) = 'BOOLEAN' then 'boolean'
        when schema_of_variant({{ variant_expr }}) like 'OBJECT<%' then 'object'
        when schema_of_variant({{ variant_expr }}) like 'ARRAY<%' then 'array'
        else 'number'
    end
{%- endmacro %}
