import { createContext, useContext } from 'react';
import type { TodoApi } from '../api/client';

export const ApiContext = createContext<TodoApi | null>(null);

export function useApi(): TodoApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi must be used inside <ApiContext.Provider>');
  return api;
}
