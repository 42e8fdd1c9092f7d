/** fetch's `json()` is typed `unknown` in Node's types; tests read bodies loosely. */
export const readJson = (response: Response): Promise<any> => response.json()
