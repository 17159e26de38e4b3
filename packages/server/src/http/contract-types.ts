// Types that turn an openapi-typescript `operations[...]` entry into a handler signature.
// The generated `*-operations.gen.ts` files use them to build the handler maps.

type NeverToEmpty<T> = [T] extends [never] ? Record<string, never> : [T] extends [undefined] ? Record<string, never> : NonNullable<T>;

/** Path, query, header or cookie parameters of an operation. */
export type ParamsOf<Op, K extends 'path' | 'query' | 'header' | 'cookie'> = Op extends { parameters: infer P }
  ? K extends keyof P
    ? NeverToEmpty<P[K]>
    : Record<string, never>
  : Record<string, never>;

type BodyVariants<C> = { [M in keyof C & string]: { type: M; value: C[M] } }[keyof C & string];

/** The request body of an operation: one variant per media type the contract accepts. */
export type BodyOf<Op> = Op extends { requestBody: { content: infer C } }
  ? BodyVariants<C>
  : Op extends { requestBody?: { content: infer C } }
    ? BodyVariants<C> | undefined
    : undefined;

export type ResponseHeaders = Record<string, string | string[]>;

type ContentOf<R> = R extends { content: infer C } ? (C extends object ? C : never) : never;

type ResponseVariant<S, R> = [ContentOf<R>] extends [never]
  ? { status: S; type?: undefined; body?: undefined; headers?: ResponseHeaders }
  : {
      [M in keyof ContentOf<R> & string]: { status: S; type: M; body: ContentOf<R>[M]; headers?: ResponseHeaders };
    }[keyof ContentOf<R> & string];

/** Every response the contract allows for an operation: a status, a media type and its body. */
export type ResponseOf<Op> = Op extends { responses: infer Rs }
  ? { [S in keyof Rs & number]: ResponseVariant<S, Rs[S]> }[keyof Rs & number]
  : never;

/** What a handler receives about the request, already validated against the contract. */
export interface TypedRequest<Op> {
  path: ParamsOf<Op, 'path'>;
  query: ParamsOf<Op, 'query'>;
  headers: Record<string, string | undefined>;
  cookies: Record<string, string>;
  body: BodyOf<Op>;
}

export type HandlerFor<Op, Ctx> = (request: TypedRequest<Op>, ctx: Ctx) => Promise<ResponseOf<Op>> | ResponseOf<Op>;
