/**
 * A small builder of DynamoDB expressions that names its own placeholders: `name('hold#r-1')` gives
 * `#n0` (the same attribute, the same placeholder), `value(3)` gives `:v0`, and `attributes()` gives
 * exactly the ExpressionAttributeNames and ExpressionAttributeValues the expressions used. No
 * placeholder is typed by hand, and none is found again by searching the expression text.
 */
export class Expression {
  private readonly names: Record<string, string> = {};
  private readonly placeholderOf = new Map<string, string>();
  private readonly values: Record<string, unknown> = {};
  private valueCount = 0;

  /** The placeholder of an attribute name. */
  name(attribute: string): string {
    let placeholder = this.placeholderOf.get(attribute);
    if (!placeholder) {
      placeholder = `#n${this.placeholderOf.size}`;
      this.placeholderOf.set(attribute, placeholder);
      this.names[placeholder] = attribute;
    }
    return placeholder;
  }

  /** A placeholder holding `value`. */
  value(value: unknown): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The names and values the expressions use (each left out when empty, as DynamoDB requires). */
  attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ...(this.placeholderOf.size ? { ExpressionAttributeNames: { ...this.names } } : {}),
      ...(this.valueCount ? { ExpressionAttributeValues: { ...this.values } } : {}),
    };
  }
}

/** `SET a, b ADD c REMOVE d`: the clauses that have actions, in that order. */
export function updateExpression(clauses: {
  readonly set?: readonly string[];
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
}): string {
  const parts: Array<[string, readonly string[] | undefined]> = [
    ['SET', clauses.set],
    ['ADD', clauses.add],
    ['REMOVE', clauses.remove],
  ];
  return parts.flatMap(([keyword, actions]) => (actions?.length ? [`${keyword} ${actions.join(', ')}`] : [])).join(' ');
}
